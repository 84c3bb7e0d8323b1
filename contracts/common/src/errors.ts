/**
 * Every contract error goes through here: a thrown Error becomes the receipt's panic message, and
 * a panic rolls back all state changes and returns the attached deposit.
 */
export function fail(message: string): never {
  throw new Error(message);
}
