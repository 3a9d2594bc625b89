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
-- values and to a period. scope is the canonical "dim=value;..." key that
-- identifies the scope ('\', ';' and '=' escaped with '\'); by_values holds
-- the dimension values themselves, and is what is read back.
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
-- Rule sets: every save is a new version; old versions stay readable.
CREATE TABLE IF NOT EXISTS meta_rulesets (
    name        VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    description VARCHAR,
    document    VARCHAR NOT NULL,
    builtin     BOOLEAN NOT NULL DEFAULT false,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (name, version)
);
-- Evaluations of a rule set version as of a date, and their assignments.
CREATE SEQUENCE IF NOT EXISTS meta_evaluation_id;
CREATE TABLE IF NOT EXISTS meta_evaluations (
    id           BIGINT PRIMARY KEY DEFAULT nextval('meta_evaluation_id'),
    ruleset      VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    as_of        DATE NOT NULL,
    path         VARCHAR NOT NULL,
    customers    BIGINT NOT NULL,
    evaluated_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS tier_assignments (
    evaluation  BIGINT NOT NULL,
    ruleset     VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    as_of       DATE NOT NULL,
    customer_id VARCHAR NOT NULL,
    tier        VARCHAR NOT NULL,
    rule        INTEGER NOT NULL
);
-- Model fits (CLV): parameters, convergence, timings and the fingerprint
-- of the data they were fitted on, as JSON.
CREATE SEQUENCE IF NOT EXISTS meta_model_fit_id;
CREATE TABLE IF NOT EXISTS meta_model_fits (
    id          BIGINT PRIMARY KEY DEFAULT nextval('meta_model_fit_id'),
    model       VARCHAR NOT NULL,
    fitted_at   TIMESTAMP NOT NULL,
    fingerprint VARCHAR NOT NULL,
    result      JSON NOT NULL
);
-- What customer_features derive from: one row, the last generation that
-- changed the data they read (datasets, scores) and the generation they were
-- built from. The two differ only in a database written by an older build,
-- which Open repairs. (The generations themselves are the store's.)
CREATE TABLE IF NOT EXISTS meta_derived (
    data_generation     BIGINT NOT NULL,
    features_generation BIGINT NOT NULL
);
INSERT INTO meta_derived (data_generation, features_generation) SELECT 0, -1 WHERE NOT EXISTS (SELECT 1 FROM meta_derived);
-- The end of the data (the day after the latest order, null without
-- orders) as the write that derived customer_features from it saw it
-- (data_end_generation): a snapshot reads it instead of scanning every
-- order date at each start.
ALTER TABLE meta_derived ADD COLUMN IF NOT EXISTS data_end TIMESTAMP;
ALTER TABLE meta_derived ADD COLUMN IF NOT EXISTS data_end_generation BIGINT;
-- A database from an older build (no generation yet) starts above every id
-- it already used as a cache generation, so no new generation can be
-- mistaken for an old one.
UPDATE meta_state SET generation = greatest(generation,
        (SELECT coalesce(max(id), 0) FROM meta_imports),
        (SELECT coalesce(max(id), 0) FROM meta_evaluations),
        (SELECT coalesce(max(id), 0) FROM meta_model_fits))
    WHERE NOT EXISTS (SELECT 1 FROM meta_generations);
ALTER TABLE meta_imports ADD COLUMN IF NOT EXISTS generation BIGINT;
ALTER TABLE meta_evaluations ADD COLUMN IF NOT EXISTS generation BIGINT;
ALTER TABLE meta_model_fits ADD COLUMN IF NOT EXISTS generation BIGINT;
ALTER TABLE meta_model_fits ADD COLUMN IF NOT EXISTS scored BIGINT;
-- API keys: only a hash of each key's secret is stored; revoked keys stay
-- for the audit log. scope maps customers columns to allowed values.
CREATE TABLE IF NOT EXISTS meta_keys (
    id         VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    role       VARCHAR NOT NULL,
    scope      JSON,
    hash       VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
-- The audit log: every change, who made it (key id and name), and how it
-- ended.
CREATE SEQUENCE IF NOT EXISTS meta_audit_id;
CREATE TABLE IF NOT EXISTS meta_audit (
    id       BIGINT DEFAULT nextval('meta_audit_id'),
    at_time  TIMESTAMP NOT NULL,
    key_id   VARCHAR,
    key_name VARCHAR,
    action   VARCHAR NOT NULL,
    target   VARCHAR,
    status   INTEGER,
    outcome  VARCHAR NOT NULL,
    message  VARCHAR
);
-- The X-Request-ID of the request that made the change (added later: a
-- database written before gets the column, empty for its old records).
ALTER TABLE meta_audit ADD COLUMN IF NOT EXISTS request_id VARCHAR;
-- KPI packs added through the API (the built-in ones are files beside the
-- KPIs): the document as JSON.
CREATE TABLE IF NOT EXISTS meta_packs (
    name       VARCHAR PRIMARY KEY,
    document   JSON NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Alerts: a KPI (optionally for one scope of dimension values) whose
-- scorecard status entering one of on_states is POSTed to the webhook.
-- last_status is the status seen by the last evaluation (NULL: never
-- evaluated; 'none': no value or no target), so an unchanged state sends
-- nothing. The secret signs the body (HMAC-SHA256), so it is kept as is.
CREATE TABLE IF NOT EXISTS meta_alerts (
    name        VARCHAR PRIMARY KEY,
    kpi         VARCHAR NOT NULL,
    by_values   JSON,
    on_states   VARCHAR[] NOT NULL,
    webhook     VARCHAR NOT NULL,
    secret      VARCHAR,
    last_status VARCHAR,
    checked_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
-- Every webhook delivery: what was sent, how many attempts it took, and
-- how it ended.
CREATE SEQUENCE IF NOT EXISTS meta_alert_delivery_id;
CREATE TABLE IF NOT EXISTS meta_alert_deliveries (
    id              BIGINT DEFAULT nextval('meta_alert_delivery_id'),
    alert           VARCHAR NOT NULL,
    kpi             VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    previous_status VARCHAR,
    webhook         VARCHAR NOT NULL,
    attempts        INTEGER NOT NULL,
    http_status     INTEGER,
    outcome         VARCHAR NOT NULL,   -- delivered or failed
    error           VARCHAR,
    payload         VARCHAR NOT NULL,
    sent_at         TIMESTAMP NOT NULL
);
