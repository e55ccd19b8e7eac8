-- name: add_book
INSERT INTO books (author_id, title, genre, price, published)
VALUES (:author_id, :title, :genre, :price, :published)
RETURNING id;

-- name: by_genre
SELECT b.id, b.title, b.price, b.published, a.name AS author
FROM books b JOIN authors a ON a.id = b.author_id
WHERE b.genre = :genre
ORDER BY b.title;

-- name: cheapest
-- "title!" is the override syntax: here it is redundant (title is NOT NULL), shown for the syntax
SELECT title AS "title!", price FROM books ORDER BY price LIMIT 1;
