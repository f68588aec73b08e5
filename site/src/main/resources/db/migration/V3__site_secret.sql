-- Secrets every app server must share, e.g. the key that signs CSRF tokens. The rows are created
-- by the first app server that starts (INSERT IGNORE of a random value), never by a migration,
-- so that no secret is ever written in the codebase.
CREATE TABLE site_secret (
    name  VARCHAR(64)  NOT NULL,
    value VARCHAR(128) NOT NULL,
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = ascii;
