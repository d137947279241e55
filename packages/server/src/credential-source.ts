import { Reason, assertToken68, authorizationHeader, createAuthError, splitAuthorization } from "@connectauth/core";
import { type AuthOutcome, type Authenticator, type PresentedCredentials, rememberedOutcome } from "./authenticator.js";

/**
 * Where credentials are read from: `Authorization` schemes, other headers and authenticators' own
 * `extract`, each to one authenticator.
 */
export interface CredentialSource {
  /**
   * Reads the request's one credential, the authenticator that takes it and, when that authenticator
   * remembers the credential (`rememberOutcomes`), its outcome; `undefined` when none was
   * presented. Throws `MULTIPLE_CREDENTIALS` when credentials come in two places, `MALFORMED_CREDENTIALS`
   * when one does not parse or is too long. Never reads the query string.
   */
  read(headers: Headers): FoundCredentials | undefined;
  /** The accepted `Authorization` schemes, for messages. */
  readonly schemes: readonly string[];
}

/** A credential read by {@link CredentialSource.read}. */
export interface FoundCredentials {
  readonly credentials: PresentedCredentials;
  /** The authenticator that takes it; `undefined` for an `Authorization` scheme nobody takes. */
  readonly authenticator: Authenticator | undefined;
  /** The outcome the authenticator gave before for this very credential, if it remembers one. */
  readonly remembered?: AuthOutcome;
}

// A header credential is one opaque token (RFC 6750 b64token syntax): no spaces, no commas.
const headerValueSyntax = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Indexes authenticators by the `Authorization` schemes and the other headers they take.
 *
 * ```ts
 * const source = createCredentialSource([jwt, apiKeys], { maxLength: 8192 });
 * const found = source.read(req.header);
 * ```
 *
 * @throws TypeError without authenticators, or when two take the same scheme or header.
 */
export function createCredentialSource(
  authenticators: readonly Authenticator[],
  options: { readonly maxLength: number; readonly realm?: string },
): CredentialSource {
  if (!Array.isArray(authenticators) || authenticators.length === 0) {
    throw new TypeError("createServerAuth: at least one authenticator is required");
  }
  const bySchemes = new Map<string, Authenticator>();
  const byHeaders = new Map<string, Authenticator>();
  const claim = (map: Map<string, Authenticator>, key: string, a: Authenticator, kind: string) => {
    if (map.has(key)) {
      throw new TypeError(`createServerAuth: authenticators "${map.get(key)!.name}" and "${a.name}" both take the "${key}" ${kind}`);
    }
    map.set(key, a);
  };
  for (const a of authenticators) {
    for (const scheme of a.schemes) claim(bySchemes, scheme.toLowerCase(), a, "scheme");
    for (const header of a.headers ?? []) {
      const h = header.toLowerCase();
      if (h === authorizationHeader || !/^[a-z0-9-]+$/.test(h)) {
        throw new TypeError(`createServerAuth: "${header}" cannot be a credential header`);
      }
      claim(byHeaders, h, a, "header");
    }
  }
  const extractors = authenticators.filter((a) => typeof a.extract === "function");
  const { maxLength, realm } = options;
  const multiple = () =>
    createAuthError(Reason.MultipleCredentials, { realm, message: "more than one credential was sent" });

  return {
    schemes: [...bySchemes.keys()],
    read(headers) {
      let found: FoundCredentials | undefined;
      for (const [header, authenticator] of byHeaders) {
        const raw = headers.get(header);
        if (raw === null || raw.trim() === "") continue;
        if (found !== undefined) throw multiple();
        if (raw.length > maxLength) {
          throw createAuthError(Reason.MalformedCredentials, { realm, message: `the ${header} header is too long` });
        }
        const value = raw.trim();
        if (!headerValueSyntax.test(value)) {
          // Several header values are joined with ", ".
          if (value.includes(",")) throw multiple();
          throw createAuthError(Reason.MalformedCredentials, { realm, message: `the ${header} header is malformed` });
        }
        found = { credentials: { scheme: "", value, header }, authenticator };
      }
      for (const authenticator of extractors) {
        const value = authenticator.extract!(headers);
        if (value === undefined || value === "") continue;
        if (found !== undefined) throw multiple();
        if (value.length > maxLength) {
          throw createAuthError(Reason.MalformedCredentials, { realm, message: "the credential is too long" });
        }
        found = { credentials: { scheme: "", value }, authenticator };
      }
      const parsed = splitAuthorization(headers.get(authorizationHeader), { maxLength, realm });
      if (parsed !== undefined) {
        if (found !== undefined) throw multiple();
        const credentials = { scheme: parsed.scheme, value: parsed.value, header: authorizationHeader };
        const authenticator = bySchemes.get(parsed.scheme);
        // A credential the authenticator remembers was scanned when it was first seen.
        const remembered = authenticator === undefined ? undefined : rememberedOutcome(authenticator, credentials);
        if (remembered === undefined) assertToken68(parsed.value, realm);
        found = { credentials, authenticator, remembered };
      }
      return found;
    },
  };
}
