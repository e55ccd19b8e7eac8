/** A type the typegen fixtures declare in a column annotation (`settings AS "settings: UserSettings"`). */
export interface UserSettings {
  theme?: "light" | "dark";
  newsletter?: boolean;
}
