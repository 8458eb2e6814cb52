// Where the stack runs, and whether an event comes from there. An event from another account or region
// (a cross-account bus, a rule forwarding another region's events) names resources that are not this
// stack's: an alarm name or an instance id read again here would be a different alarm or instance, or
// none. Such an event is ignored with a log line, never re-read under the same name locally.

export interface StackLocation {
  account: string;
  region: string;
}

/**
 * The function's own account and region, from the ARN it was invoked by
 * (`arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`); the region falls back to AWS_REGION.
 * undefined when neither can be read: then nothing is refused on this ground.
 */
export function stackLocation(
  context: { invokedFunctionArn?: string } | undefined,
): StackLocation | undefined {
  const [, , , region, account] = (context?.invokedFunctionArn ?? '').split(':');
  const ownRegion = region || process.env.AWS_REGION;
  if (!account || !ownRegion) return undefined;
  return { account, region: ownRegion };
}

/** Why an event is from elsewhere, or undefined when it is from here (or does not say where from). */
export function fromElsewhere(
  origin: { account?: string; region?: string },
  here: StackLocation | undefined,
): string | undefined {
  if (!here) return undefined;
  if (origin.account !== undefined && origin.account !== here.account)
    return `from account ${origin.account}, not ${here.account}`;
  if (origin.region !== undefined && origin.region !== here.region)
    return `from region ${origin.region}, not ${here.region}`;
  return undefined;
}
