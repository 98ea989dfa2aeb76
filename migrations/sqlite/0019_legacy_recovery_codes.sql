-- Recovery codes made before 0012 had 12 characters (about 59 bits) and are stored as SHA-256
-- hashes: a copy of the database would let them be found by brute force, so they stop working
-- (ASVS 2.6.2: at least 112 bits, or a slow salted hash). A hash does not tell how long its
-- code was; a code is from before 0012 when it was made before 0012 was applied. The users they
-- belonged to see no recovery codes left and make new ones (24 characters, about 119 bits).
-- Keep in step with ../postgres/0019_legacy_recovery_codes.sql.
DELETE FROM recovery_codes
WHERE created_at < (
    SELECT CAST((julianday(installed_on) - 2440587.5) * 86400000 AS INTEGER)
    FROM _sqlx_migrations WHERE version = 12
);
