/**
 * The few IPC names and constants outside the API contract, shared by the preload (which bundles this
 * file) and the main process. Runtime constants only: no imports.
 */

/** Desktop-only: the native folder picker behind `FacetsBridge.chooseFolder`. */
export const CHOOSE_FOLDER = 'facets:choose-folder';

/** Desktop-only: shows a library photo's file in the system's file manager (`FacetsBridge.showInFolder`). */
export const SHOW_IN_FOLDER = 'facets:show-in-folder';

/** The privileged scheme media is served on: `facets-media://<thumb|photo|face>/<id>`. */
export const MEDIA_SCHEME = 'facets-media';

export const MEDIA_KINDS = ['photo', 'thumb', 'face'] as const;

/** Turns Electron's "Error invoking remote method 'x': Error: message" back into "message". */
export function remoteMessage(message: string): string {
  return message.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '');
}
