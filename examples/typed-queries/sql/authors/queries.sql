-- name: create_author
INSERT INTO authors (name, born) VALUES (:name, :born) RETURNING id, name;

-- name: with_book_counts
-- LEFT JOIN: an author without books still appears, with a null latest title
SELECT a.id, a.name, count(b.id) AS books, max(b.title) AS latest_title
FROM authors a LEFT JOIN books b ON b.author_id = a.id
GROUP BY a.id, a.name
ORDER BY a.name;
