/** Target id meaning "no log-prob here" (last real position, padding). */
export const IGNORE_TARGET = 0xffffffff;
