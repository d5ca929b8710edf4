// AWS Backup (DP 1.3): a daily backup of every table into a vault encrypted
// with the data key and locked against early deletion, each recovery point
// copied to a vault in another region.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export const BACKUP_RETENTION_DAYS = 35;

export function createBackup(
  scope: Construct,
  key: kms.IKey,
  tables: readonly dynamodb.ITable[],
  copyVaultArn: string,
): backup.BackupPlan {
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    encryptionKey: key,
    removalPolicy: RemovalPolicy.RETAIN,
    // Governance-mode vault lock: recovery points cannot be deleted early.
    lockConfiguration: { minRetention: Duration.days(7) },
  });
  const plan = new backup.BackupPlan(scope, 'BackupPlan', { backupVault: vault });
  plan.addRule(
    new backup.BackupPlanRule({
      ruleName: 'daily-with-cross-region-copy',
      scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
      deleteAfter: Duration.days(BACKUP_RETENTION_DAYS),
      copyActions: [
        {
          destinationBackupVault: backup.BackupVault.fromBackupVaultArn(
            scope,
            'CopyVault',
            copyVaultArn,
          ),
          deleteAfter: Duration.days(BACKUP_RETENTION_DAYS),
        },
      ],
    }),
  );
  plan.addSelection('Tables', {
    resources: tables.map((t) => backup.BackupResource.fromDynamoDbTable(t)),
  });
  return plan;
}
