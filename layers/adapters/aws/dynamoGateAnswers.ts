// People's answers at the deployment hook's gates, in the ops API's table: one item per gate
// (`gate-answer#<cluster>/<service>/<deployment>/<stage>`), written with a conditional put so that of two
// answers given at the same moment exactly one is recorded. A gate is one stage of one deployment and never
// opens again: the item is never overwritten, and the table's TTL sweeps it after a day.
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { GateAnswerSeen } from '#domain/deploymentHook';
import type { Clock, GateAnswers } from '#ports';

const KEPT_SECONDS = 24 * 60 * 60;

export class DynamoGateAnswers implements GateAnswers {
  constructor(
    private readonly dynamo: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async record(gate: string, answer: GateAnswerSeen): Promise<GateAnswerSeen> {
    const key = { pk: { S: `gate-answer#${gate}` } };
    try {
      await this.dynamo.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...key,
            decision: { S: answer.decision },
            by: { S: answer.by },
            expiresAt: { N: String(Math.floor(this.clock.now().getTime() / 1000) + KEPT_SECONDS) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return answer;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
    }
    const held = await this.dynamo.send(
      new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    const decision = held.Item?.decision?.S;
    // Never deleted but by the TTL, a day after a gate that is long closed: an item gone here is a bug.
    if (decision !== 'resume' && decision !== 'abort') throw new Error(`gate answer unreadable: ${gate}`);
    return { decision, by: held.Item?.by?.S ?? 'unknown' };
  }
}
