--
-- psql specifics: meta-commands between statements, \g, COPY FROM STDOUT, U&'' while backslashes escape
-- (after \restrict psql refuses every meta-command but \unrestrict, so \g comes first)
--
SELECT 1 \g
SELECT 2
\gx
\restrict AbC123
CREATE TABLE t (a int, b text);
copy t from stdout;
1	x;y
\.
SET standard_conforming_strings = off;
SELECT U&'d\0061t' AS u, 'e\'f;' AS e;
SET standard_conforming_strings = on;
SELECT 3;
\unrestrict AbC123
