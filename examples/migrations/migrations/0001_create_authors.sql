-- name: migrate-0001-up
CREATE TABLE authors (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE
);

-- name: migrate-0001-down
DROP TABLE authors;
