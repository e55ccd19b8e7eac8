-- An index built without locking writes: CREATE INDEX CONCURRENTLY cannot run inside a transaction.
-- transactional: false

-- name: migrate-0003-up
CREATE INDEX CONCURRENTLY IF NOT EXISTS books_author_id ON books (author_id);

-- name: migrate-0003-down
DROP INDEX CONCURRENTLY IF EXISTS books_author_id;
