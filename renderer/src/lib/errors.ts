/**
 * Back-end messages in the user's words, for showing next to the field that caused them. The API's
 * validators speak to programs (`request.path: "/x" does not exist`); the user reads "There is no
 * folder at /x". Unknown messages keep their text, without the `request.field:` prefix.
 */
const RULES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/"(.+)" does not exist$/, (m) => `There is no folder at ${m[1]}. Check the spelling, or choose another folder.`],
  [/"(.+)" is not a folder$/, (m) => `${m[1]} is a file, not a folder. Choose the folder that holds your photos.`],
  [
    /"(.+)" is not an absolute path$/,
    () => 'Type the full path of a folder, from the top: /home/you/Pictures or C:\\Users\\you\\Pictures.',
  ],
  [/must be between (\S+) and (\S+)$/, (m) => `Choose a value from ${m[1]} to ${m[2]}.`],
  [/expected a number$/, () => 'Type a number.'],
  [/expected an integer$/, () => 'Type a whole number.'],
  [/(.+) is not inside a library folder/, (m) => `${m[1]} is not in one of your library folders: add it first.`],
  [/no photo folders yet/, () => 'Add a folder of photos first.'],
];

export function plainError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  for (const [pattern, say] of RULES) {
    const m = pattern.exec(message);
    if (m) return say(m);
  }
  const text = message.replace(/^request(\.[\w[\]]+)*:\s*/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
