-- The example's schema. `sqlspec generate --schema` applies it to an in-memory PGlite: no server needed.
CREATE TYPE genre AS ENUM ('fiction', 'history', 'science');

CREATE TABLE authors (
  id    serial PRIMARY KEY,
  name  text NOT NULL,
  born  date
);

CREATE TABLE books (
  id         serial PRIMARY KEY,
  author_id  integer NOT NULL REFERENCES authors (id),
  title      text NOT NULL,
  genre      genre NOT NULL,
  price      numeric(8, 2) NOT NULL,
  published  timestamptz
);
