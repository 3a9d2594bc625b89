-- The generations: every write commits a new one in the same transaction
-- as its data. meta_state has exactly one row, the current generation;
-- meta_generations logs each with what made it.
CREATE TABLE IF NOT EXISTS meta_generations (
    id         BIGINT NOT NULL,
    cause      VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS meta_state (
    generation BIGINT NOT NULL
);
INSERT INTO meta_state SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM meta_state);
