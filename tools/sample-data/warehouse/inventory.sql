-- Sample warehouse for sql.select: built into inventory.sqlite by tools/sample-data/build-sample-db.
CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT NOT NULL, region TEXT NOT NULL);
CREATE TABLE items (
    sku TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    site_id INTEGER NOT NULL REFERENCES sites(id),
    quantity INTEGER NOT NULL,
    unit_cost REAL NOT NULL
);
INSERT INTO sites VALUES (1, 'Rotterdam', 'EU'), (2, 'Gdansk', 'EU'), (3, 'Halifax', 'NA');
INSERT INTO items VALUES
    ('PMP-100', 'Centrifugal pump', 1, 14, 1290.0),
    ('VLV-220', 'Gate valve DN100', 1, 85, 310.5),
    ('VLV-221', 'Gate valve DN150', 2, 40, 455.0),
    ('SNS-010', 'Pressure sensor', 2, 300, 72.25),
    ('SNS-011', 'Flow sensor', 3, 120, 139.9),
    ('CBL-500', 'Armoured cable 50m', 3, 60, 210.0),
    ('PMP-140', 'Dosing pump', 3, 7, 2480.0);
