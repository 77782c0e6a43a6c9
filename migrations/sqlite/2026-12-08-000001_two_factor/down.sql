ALTER TABLE users DROP COLUMN two_factor_on;
ALTER TABLE site_settings DROP COLUMN staff_two_factor;
DROP TABLE recovery_codes;
DROP TABLE two_factor;
