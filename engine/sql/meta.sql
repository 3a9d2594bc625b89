-- Engine metadata, kept in the database so it survives restarts.
CREATE SEQUENCE IF NOT EXISTS meta_import_id;
CREATE TABLE IF NOT EXISTS meta_imports (
    id          BIGINT PRIMARY KEY DEFAULT nextval('meta_import_id'),
    kind        VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    mode        VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,      -- ok or failed
    rows        BIGINT,
    checksum    VARCHAR,
    columns     VARCHAR[],
    message     VARCHAR,               -- why a failed import failed
    imported_at TIMESTAMP NOT NULL
);
-- Model scores per customer (written by the CLV fit); empty until a fit, so
-- the feature macro binds on a fresh database.
CREATE TABLE IF NOT EXISTS clv_scores (
    customer_id VARCHAR,
    p_alive DOUBLE,
    expected_purchases_90d DOUBLE,
    clv_12m DOUBLE
);
-- KPI targets (standards): a value per KPI, optionally scoped to dimension
-- values and to a period. scope is the canonical "dim=value;..." string.
CREATE TABLE IF NOT EXISTS meta_targets (
    kpi         VARCHAR NOT NULL,
    scope       VARCHAR NOT NULL,
    by_values   MAP(VARCHAR, VARCHAR),
    period_from DATE,
    period_to   DATE,
    target      DOUBLE NOT NULL,
    direction   VARCHAR NOT NULL,
    warn_within DOUBLE NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
