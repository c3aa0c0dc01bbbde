// Which issuer and well-known document each accepted spelling of a discovery URL leads to.
import { describe, expect, it } from "vitest";
import { AppError } from "../errors/problem.ts";
import { parseDiscoveryUrl } from "./discovery-url.ts";

describe("parseDiscoveryUrl", () => {
  it.each([
    ["https://login.example.com", "https://login.example.com/", ["oidc", "oauth2"]],
    ["https://login.example.com/", "https://login.example.com/", ["oidc", "oauth2"]],
    ["https://login.example.com/realms/acme", "https://login.example.com/realms/acme", ["oidc", "oauth2"]],
    ["https://login.example.com/.well-known/openid-configuration", "https://login.example.com/", ["oidc"]],
    ["https://login.example.com/realms/acme/.well-known/openid-configuration", "https://login.example.com/realms/acme", ["oidc"]],
    ["https://login.example.com/.well-known/oauth-authorization-server", "https://login.example.com/", ["oauth2"]],
    ["https://login.example.com/.well-known/oauth-authorization-server/tenant/a", "https://login.example.com/tenant/a", ["oauth2"]],
  ])("reads %s as issuer %s", (input, issuer, algorithms) => {
    const target = parseDiscoveryUrl(input, false);
    expect(target.issuer.href).toBe(issuer);
    expect(target.algorithms).toEqual(algorithms);
  });

  it("accepts plain http only when private URLs are allowed", () => {
    expect(parseDiscoveryUrl("http://127.0.0.1:4000/op", true).issuer.href).toBe("http://127.0.0.1:4000/op");
    expect(() => parseDiscoveryUrl("http://login.example.com", false)).toThrow("it must use https");
  });

  it.each([
    ["", "it is not an absolute URL"],
    ["login.example.com", "it is not an absolute URL"],
    ["javascript:alert(1)", "it must start with https:// (not javascript:)"],
    ["file:///etc/passwd", "it must start with https:// (not file:)"],
    ["https://user:pw@login.example.com", "must not contain a user name or password"],
    ["https://login.example.com/?x=1", "must not have a query"],
    ["https://login.example.com/#top", "must not have a query (?) or fragment (#)"],
    ["https://login.example.com/.well-known/jwks.json", "give the issuer URL instead"],
  ])("refuses %j with invalid_request", (input, why) => {
    let err: unknown;
    try {
      parseDiscoveryUrl(input, true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("invalid_request");
    expect((err as AppError).detail).toContain(why);
  });
});
