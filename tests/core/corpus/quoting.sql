-- Quoting: every kind of literal and identifier that may hold a ;
SELECT 'a;b', 'it''s; fine', E'c\';d', e'\\'; SELECT "x;y" FROM "t;1";
SELECT U&'d\0061t\+000061;', B'0101', X'ff;', N'n;';
SELECT $$ ; $$, $tag$ $$ ; $ta $tag$, $a$b;$a$ FROM t;
SELECT 1 -- a comment; with a semicolon
  + 2; SELECT /* a /* nested ; */ comment ; */ 3;
SELECT a$1, b$c$ FROM t WHERE x = $1;
SELECT 'line
break;' AS multi, "quoted
ident;";
/* leading block comment */ SELECT 4;
-- leading line comment
SELECT 5;;;
  ;
SELECT 6 -- comment ended by a carriage return; SELECT 7;SELECT 8;
SELECT 9; -- trailing comment only
SELECT 13 -- lone CR ends me;SELECT 14; SELECT 15;-- x;SELECT 16;
