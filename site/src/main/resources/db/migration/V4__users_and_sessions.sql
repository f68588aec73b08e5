-- Accounts and their signed-in sessions. Sessions live here, not in an app server's memory, so that
-- any app server serves any signed-in visitor, and one killed or redeployed signs nobody out.
CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT,
    -- Unique whatever the case: "Ada" and "ada" are the same account.
    name          VARCHAR(32)  CHARACTER SET ascii COLLATE ascii_general_ci NOT NULL,
    -- pbkdf2-sha256$<iterations>$<salt>$<hash> (see Passwords): the password itself is never stored.
    password_hash VARCHAR(200) CHARACTER SET ascii NOT NULL,
    -- Consecutive failed sign-ins, and until when the account refuses sign-ins after too many.
    failed_logins INT          NOT NULL DEFAULT 0,
    locked_until  TIMESTAMP(3) NULL,
    created_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY users_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per signed-in browser. The cookie holds a random 256-bit token; only its SHA-256 is kept
-- here, so that reading this table (a backup, a replica) does not let anyone sign in as someone.
CREATE TABLE sessions (
    token_hash BINARY(32)   NOT NULL,
    user_id    BIGINT       NOT NULL,
    created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    expires_at TIMESTAMP(3) NOT NULL,
    PRIMARY KEY (token_hash),
    INDEX sessions_expires_at (expires_at),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB;
