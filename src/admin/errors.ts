import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  type ErrorDetail,
  encodeRpcStatus,
  type FieldViolation,
  statusDetailsKey,
} from './status-details.ts';

/** `ErrorInfo.domain` of every error this API describes. */
export const errorDomain = 'meshkeeper.admin.v1';

/**
 * An admin call that fails as the API intends: a gRPC status code, a message for humans and
 * typed details for programs. Handlers throw it; the server turns it into the status and the
 * `grpc-status-details-bin` trailer.
 */
export class AdminError extends Error {
  readonly code: status;
  readonly details: readonly ErrorDetail[];

  constructor(code: status, message: string, details: readonly ErrorDetail[] = []) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
    this.details = details;
  }
}

/** INVALID_ARGUMENT naming every offending field (google.rpc.BadRequest). */
export function invalidArgument(violations: readonly FieldViolation[]): AdminError {
  const message = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  return new AdminError(status.INVALID_ARGUMENT, message, [
    { type: 'bad_request', fieldViolations: [...violations] },
  ]);
}

/** INVALID_ARGUMENT for one field. */
export function badField(field: string, reason: string, description: string): AdminError {
  return invalidArgument([{ field, reason, description }]);
}

/** NOT_FOUND with the resource named (google.rpc.ResourceInfo). */
export function notFound(resourceType: string, resourceName: string, message: string): AdminError {
  return new AdminError(status.NOT_FOUND, message, [
    { type: 'resource_info', resourceType, resourceName, description: message },
  ]);
}

/** A status with a machine-readable reason (google.rpc.ErrorInfo). */
export function withReason(
  code: status,
  reason: string,
  message: string,
  metadata: Record<string, string> = {},
): AdminError {
  return new AdminError(code, message, [
    { type: 'error_info', reason, domain: errorDomain, metadata },
  ]);
}

/** The name of a status code as the metric label and log lines write it (`INVALID_ARGUMENT`). */
export function codeName(code: number): string {
  return status[code] ?? `CODE_${code}`;
}

/** What a handler failure becomes on the wire; anything unexpected is INTERNAL. */
export function toServiceError(error: unknown): Partial<ServiceError> & { code: status } {
  const failure =
    error instanceof AdminError
      ? error
      : new AdminError(status.INTERNAL, error instanceof Error ? error.message : String(error));
  const metadata = new Metadata();
  if (failure.details.length > 0) {
    metadata.set(
      statusDetailsKey,
      Buffer.from(
        encodeRpcStatus({
          code: failure.code,
          message: failure.message,
          details: [...failure.details],
        }),
      ),
    );
  }
  return { code: failure.code, details: failure.message, metadata };
}
