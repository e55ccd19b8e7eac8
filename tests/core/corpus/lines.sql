SELECT 3 -- o;;
COPY t (a) FROM stdin;
1;x
'y
\.
SELECT 1;
SET standard_conforming_strings = off; SELECT 'a\';
SELECT 'b\';c';
SET standard_conforming_strings = on;
SELECT 'd\';
SELECT 2;
