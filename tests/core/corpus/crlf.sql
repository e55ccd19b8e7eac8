SELECT 10;
SELECT 11 -- crlf comment;
;
SELECT 12
