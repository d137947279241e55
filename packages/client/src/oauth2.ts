// The `@connectauth/client/oauth2` entry point: OAuth2 grants through oauth4webapi, apart from the main
// entry so that an app that gets its tokens otherwise does not bundle them.
export {
  createOAuth2TokenSource,
  type OAuth2TokenSource,
  type OAuth2TokenSourceOptions,
} from "./oauth2-token-source.js";
