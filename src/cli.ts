#!/usr/bin/env node
/**
 * The `tokengate` command: `npx tokengate keygen` makes a production signing key.
 *
 * stdout carries only what a program reads (the private JWK Set, or with `--out` the public
 * one), so `npx tokengate keygen > keys.json` works; guidance goes to stderr.
 * @packageDocumentation
 */
import { createPrivateKey } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { generateKeys } from './tokens/keygen';
import type { SigningAlgorithm } from './tokens/keys';

const USAGE = `Usage: tokengate keygen [--alg ES256|ES384|RS256|PS256|HS256] [--kid ID] [--out FILE [--force]] [--pem]

  Prints a new private signing key as a JWK Set on stdout (keep it secret), and its public
  JWK Set on stderr. Load it with loadKeys():
    oauthServer(stores, { issuer, keys: loadKeys(process.env.TOKENGATE_KEYS ?? './keys.json') })

  --alg ALG    signature algorithm (default ES256)
  --kid ID     key id (default: today's date and 4 random hex digits)
  --out FILE   write the private set to FILE (mode 0600) and print the public set on stdout
  --force      with --out: replace an existing FILE
  --pem        print the private key as PKCS#8 PEM instead (not for HS256)
`;

interface Parsed {
  alg?: string;
  kid?: string;
  out?: string;
  force: boolean;
  pem: boolean;
}

function parse(args: string[]): Parsed {
  const parsed: Parsed = { force: false, pem: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [name, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--alg') parsed.alg = value().toUpperCase();
    else if (name === '--kid') parsed.kid = value();
    else if (name === '--out') parsed.out = value();
    else if (name === '--force') parsed.force = true;
    else if (name === '--pem') parsed.pem = true;
    else throw new Error(`unknown option ${name}`);
  }
  return parsed;
}

function keygen(args: string[]): void {
  const opts = parse(args);
  const { privateJwks, publicJwks } = generateKeys({ alg: opts.alg as SigningAlgorithm | undefined, kid: opts.kid });
  const jwk = privateJwks.keys[0];
  if (opts.pem) {
    if (!jwk || jwk.kty === 'oct') throw new Error('--pem is for asymmetric keys; an HS256 secret has no PEM form');
    const { kid: _kid, alg: _alg, use: _use, ...material } = jwk;
    process.stdout.write(
      createPrivateKey({ key: material, format: 'jwk' }).export({ format: 'pem', type: 'pkcs8' }).toString(),
    );
    process.stderr.write(
      `kid ${jwk.kid}, alg ${jwk.alg}: keys: [{ kid: '${jwk.kid}', alg: '${jwk.alg}', privateKey: pemText }]\n`,
    );
    return;
  }
  const privateText = `${JSON.stringify(privateJwks, null, 2)}\n`;
  const publicText = `${JSON.stringify(publicJwks, null, 2)}\n`;
  if (opts.out) {
    if (existsSync(opts.out) && !opts.force)
      throw new Error(`${opts.out} exists; add --force to replace it (a rotation keeps the old key: see docs)`);
    writeFileSync(opts.out, privateText, { mode: 0o600 });
    process.stdout.write(publicText);
    process.stderr.write(
      `wrote the private key set to ${opts.out} (mode 0600); the public set above is what /oauth/jwks will serve\n`,
    );
    return;
  }
  process.stdout.write(privateText);
  process.stderr.write(`public JWK Set (what /oauth/jwks will serve):\n${publicText}`);
}

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    if (command === 'keygen') keygen(rest);
    else if (command === undefined || command === '--help' || command === '-h' || command === 'help')
      process.stdout.write(USAGE);
    else throw new Error(`unknown command ${command}`);
    return 0;
  } catch (err) {
    process.stderr.write(`tokengate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
