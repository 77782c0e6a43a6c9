-- The forum's identity, kept by admins on /admin/settings: its name, a short
-- description (the home page and <meta name="description">), a contact address shown
-- in the footer, and a logo served by Agora itself. One row.
CREATE TABLE site_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    logo BLOB,
    logo_type TEXT,
    -- Moves with every change, so pages and the logo's URL change with it.
    revision BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO site_settings (id, name, description, contact_email, revision, updated_at)
VALUES (1, 'Agora', 'A community forum: read without an account, sign in to write.', '', 1, 0);
