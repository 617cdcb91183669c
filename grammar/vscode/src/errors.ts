// Turning whatever a rejected promise holds into a message for the user.

/** The message of an error: an `Error`, a JSON-RPC error object, a string, or else a fallback. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message !== "") {
    return error.message;
  }
  if (typeof error === "object" && error !== null) {
    const message = (error as Record<string, unknown>)["message"];
    if (typeof message === "string" && message !== "") {
      return message;
    }
  }
  return typeof error === "string" && error !== "" ? error : "unknown error";
}
