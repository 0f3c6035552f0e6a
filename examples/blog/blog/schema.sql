-- The blog's tables. `erlen init-db` runs this file, which starts from scratch.
DROP TABLE IF EXISTS post;
DROP TABLE IF EXISTS user;

CREATE TABLE user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL
);

-- AUTOINCREMENT: the id of a deleted post is never given again, so the live feed can ask for
-- "the posts after id N".
CREATE TABLE post (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER NOT NULL REFERENCES user (id),
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M', 'now')),
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
