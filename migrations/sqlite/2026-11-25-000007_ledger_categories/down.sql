-- The free text replaced by categories is not kept, so there is nothing to restore.
SELECT 1;
