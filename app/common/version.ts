/** The app's version, shown in About and written into model cards; keep equal to package.json (a test checks). */
export const APP_VERSION = '0.1.0';
