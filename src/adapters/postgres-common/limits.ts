/** Bind messages carry a 16-bit parameter count: more than this many parameters can never be sent. */
export const POSTGRES_MAX_PARAMETERS = 65_535;
