import type { ContextValues } from "@connectrpc/connect";
import { type ChallengeScheme, Reason, authorizationHeader } from "@connectauth/core";
import { credentialFault, isToken68, splitAuthorization } from "@connectauth/core/protocol";
import { type Authenticator, type PresentedCredentials, authenticatorFault } from "./authenticator.js";
import { type AuthChallenge, type Denial, deny } from "./denial.js";
import { headerValueCountKey } from "./protocol.js";

/**
 * Where credentials are read from: `Authorization` schemes, other headers and authenticators' own
 * `extract`, each to one authenticator.
 */
export interface CredentialSource {
  /**
   * Reads the request's one credential and the authenticator that takes it; `undefined` when none was
   * presented. A {@link Denial} when credentials come in two places or twice in one header
   * (`MULTIPLE_CREDENTIALS`, counted on the wire when the adapter says how: `headerValueCountKey`),
   * when one does not parse or is too long (`MALFORMED_CREDENTIALS`; for an `Authorization` credential
   * that goes to one authenticator alone, the token68 scan is left to
   * {@link CredentialSource.syntaxRefusal}), when its `Authorization` scheme is taken by no
   * authenticator (`MISSING_CREDENTIALS`, `detail: "unsupported_scheme"`, RFC 6750 §3.1), or when an
   * `extract` throws (a fault). Never reads the query string. Its refusals carry
   * {@link CredentialSource.challenge}.
   */
  read(headers: Headers, values: ContextValues): FoundCredentials | Denial | undefined;
  /**
   * The refusal of an `Authorization` credential read unscanned ({@link FoundCredentials.unscanned})
   * that is not a token68: what {@link CredentialSource.read} would have answered; `undefined` for a
   * token68.
   */
  syntaxRefusal(value: string): Denial | undefined;
  /** The accepted `Authorization` schemes, for messages. */
  readonly schemes: readonly string[];
  /**
   * What a call without a usable credential is answered with: the union of what the authenticators ask
   * for ({@link challengeOfAll}); `undefined` for `Bearer` alone (the default challenge).
   */
  readonly challenge: AuthChallenge | undefined;
}

/** A credential read by {@link CredentialSource.read}. */
export interface FoundCredentials {
  readonly credentials: PresentedCredentials;
  /** The authenticator that takes it. */
  readonly authenticator: Authenticator;
  /**
   * `true` for an `Authorization` credential whose token68 scan was left for later, as it goes to one
   * authenticator alone: the judge scans it before calling the authenticator, or, when its
   * `authenticate` checks the syntax itself (`checksCredentialSyntax`), only if it refuses it.
   */
  readonly unscanned?: true;
}

/**
 * Indexes authenticators by the `Authorization` schemes and the other headers they take.
 *
 * ```ts
 * const source = createCredentialSource([jwt, apiKeys], { maxLength: 8192 });
 * const found = source.read(req.header, req.contextValues);
 * ```
 *
 * @throws TypeError without authenticators, or when two take the same scheme or header.
 */
export function createCredentialSource(
  authenticators: readonly Authenticator[],
  options: { readonly maxLength: number },
): CredentialSource {
  if (!Array.isArray(authenticators) || authenticators.length === 0) {
    throw new TypeError("createServerAuth: at least one authenticator is required");
  }
  const bySchemes = new Map<string, Authenticator>();
  const byHeaders = new Map<string, Authenticator>();
  const claim = (map: Map<string, Authenticator>, key: string, a: Authenticator, kind: string) => {
    const taken = map.get(key);
    if (taken !== undefined) {
      throw new TypeError(`createServerAuth: authenticators "${taken.name}" and "${a.name}" both take the "${key}" ${kind}`);
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
  const credentialHeaders = [authorizationHeader, ...byHeaders.keys()];
  const extractors = authenticators.filter(
    (a): a is Authenticator & Required<Pick<Authenticator, "extract">> => typeof a.extract === "function",
  );
  const accepted = [...bySchemes.keys()].join(", ");
  const { maxLength } = options;
  const challenge = challengeOfAll(authenticators);
  const refuse = (reason: Reason, message: string, metadata?: Record<string, string>): Denial =>
    deny(reason, challenge === undefined ? { message, metadata } : { message, metadata, challenge });
  const multiple = refuse(Reason.MultipleCredentials, "more than one credential was sent");
  const syntaxRefusal = (value: string): Denial | undefined => {
    const fault = credentialFault(value);
    return fault === undefined ? undefined : refuse(fault.reason, fault.message);
  };

  /** A credential header that came more than once on the wire, as the adapter counted it. */
  function repeatedOnTheWire(values: ContextValues): boolean {
    const count = values.get(headerValueCountKey);
    return count !== undefined && credentialHeaders.some((h) => count(h) > 1);
  }

  return {
    schemes: [...bySchemes.keys()],
    challenge,
    read(headers, values) {
      if (repeatedOnTheWire(values)) return multiple;
      let found: FoundCredentials | undefined;
      for (const [header, authenticator] of byHeaders) {
        const raw = headers.get(header);
        if (raw === null || raw.trim() === "") continue;
        if (found !== undefined) return multiple;
        if (raw.length > maxLength) {
          return refuse(Reason.MalformedCredentials, `the ${header} header is too long`);
        }
        const value = raw.trim();
        // A header credential is one opaque token68: no spaces, no commas.
        if (!isToken68(value)) {
          // Several header values are joined with ", ".
          if (value.includes(",")) return multiple;
          return refuse(Reason.MalformedCredentials, `the ${header} header is malformed`);
        }
        found = { credentials: { scheme: "", value, header }, authenticator };
      }
      for (const authenticator of extractors) {
        let value: string | undefined;
        try {
          value = authenticator.extract(headers);
        } catch {
          return authenticatorFault(authenticator);
        }
        if (value === undefined || value === "") continue;
        if (found !== undefined) return multiple;
        if (typeof value !== "string" || value.length > maxLength) {
          return refuse(Reason.MalformedCredentials, "the credential is too long or not text");
        }
        found = { credentials: { scheme: "", value }, authenticator };
      }
      const parsed = splitAuthorization(headers.get(authorizationHeader), maxLength);
      if (parsed === undefined) return found;
      if ("reason" in parsed) return refuse(parsed.reason, parsed.message);
      const authenticator = bySchemes.get(parsed.scheme);
      if (found !== undefined || authenticator === undefined) {
        // Scanned now: its syntax comes before the refusal of a second credential or of the scheme.
        const malformed = syntaxRefusal(parsed.value);
        if (malformed !== undefined) return malformed;
      }
      if (found !== undefined) return multiple;
      if (authenticator === undefined) {
        // RFC 6750 §3.1: answered as no credential (the challenge names no error); the scheme is not
        // echoed, since a bare token with a space in it would be read as the scheme.
        return refuse(Reason.MissingCredentials, `the auth scheme is not accepted here (accepted: ${accepted})`, {
          detail: "unsupported_scheme",
        });
      }
      const credentials = { scheme: parsed.scheme, value: parsed.value, header: authorizationHeader };
      return { credentials, authenticator, unscanned: true };
    },
    syntaxRefusal,
  };
}

/**
 * The challenge of a call without a usable credential, for a server with these authenticators: the
 * union of what they ask for ({@link Authenticator.challenge}; without it, `Bearer` for the `bearer`
 * scheme and `DPoP` for `dpop`), `Bearer` before `DPoP`, with the `algs` of every `DPoP` one.
 * `undefined` when that is `Bearer` alone, the default challenge, or nothing at all (API keys only).
 *
 * ```ts
 * challengeOfAll([createJwtAuthenticator({ ...options, dpop: "allowed" })]);
 * // { schemes: ["Bearer", "DPoP"], dpopAlgorithms: ["ES256", …] }
 * ```
 *
 * Not checked: whether the authenticators really take what they ask for.
 */
export function challengeOfAll(authenticators: readonly Authenticator[]): AuthChallenge | undefined {
  const schemes = new Set<ChallengeScheme>();
  const algorithms = new Set<string>();
  for (const a of authenticators) {
    const asked = a.challenge ?? {
      schemes: [
        ...(a.schemes.some((s) => s.toLowerCase() === "bearer") ? (["Bearer"] as const) : []),
        ...(a.schemes.some((s) => s.toLowerCase() === "dpop") ? (["DPoP"] as const) : []),
      ],
    };
    for (const scheme of asked.schemes) schemes.add(scheme);
    if (asked.schemes.includes("DPoP")) for (const alg of asked.dpopAlgorithms ?? []) algorithms.add(alg);
  }
  if (!schemes.has("DPoP")) return undefined;
  const ordered = (["Bearer", "DPoP"] as const).filter((s) => schemes.has(s));
  return algorithms.size === 0 ? { schemes: ordered } : { schemes: ordered, dpopAlgorithms: [...algorithms] };
}
