-- The ledger records why an account went as a fixed category, never free text.
UPDATE deletion_ledger SET reason = CASE
    WHEN reason IN ('self-service', 'deleted by member') THEN 'self-service'
    WHEN reason IN ('under-13', 'under 13', 'erased by staff: under 13') THEN 'under-13'
    ELSE 'staff-other'
END
WHERE erased = 'account';
