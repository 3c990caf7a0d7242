/** The machine and versions a result was measured on, stored with the figures. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PROJECT_ROOT = path.join(__dirname, '..');
const PACKAGES = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', 'dynalite', 'esbuild', 'typescript', 'tsx'];

export interface MachineInfo {
  platform: string;
  release: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryGiB: number;
  node: string;
}

export interface VersionInfo {
  project: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  packages: Record<string, string>;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

export function versionInfo(): VersionInfo {
  const packages: Record<string, string> = {};
  for (const name of PACKAGES) {
    try {
      packages[name] = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      packages[name] = 'not installed';
    }
  }
  const project = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return { project, gitCommit: git(['rev-parse', 'HEAD']), gitDirty: dirty(), packages };
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function dirty(): boolean | null {
  const status = git(['status', '--porcelain']);
  return status === null ? null : status.length > 0;
}
