/** A code migration: it may run statements itself and return more SQL to run. */
import type { Session } from "../../../src/index.js";

export async function up(session: Session): Promise<string> {
  await session.execute("INSERT INTO authors (name) VALUES (:name)", { name: "Ursula K. Le Guin" });
  return "INSERT INTO books (author_id, title, published) SELECT id, 'The Dispossessed', DATE '1974-05-01' FROM authors";
}

export async function down(session: Session): Promise<void> {
  await session.executeScript("DELETE FROM books; DELETE FROM authors");
}
