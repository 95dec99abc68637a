import type { Problem } from './errors';

/** Where in a request a problem is. */
export type RequestPart = 'params' | 'query' | 'headers' | 'body';

/** One problem of a request: the part, the JSON pointer inside it, what is wrong. */
export interface RequestProblem extends Problem {
  readonly in: RequestPart;
}

/**
 * The `application/problem+json` document (RFC 9457) of a request that does not match its route's
 * schemas; `errors` lists every problem found (at most MAX_LISTED_PROBLEMS per part).
 */
export interface ValidationProblemDocument {
  type: string;
  title: string;
  status: 400;
  detail: string;
  instance: string;
  request_id: string;
  errors: RequestProblem[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function validationProblem(
  problems: RequestProblem[],
  path: string,
  requestId: string,
): ValidationProblemDocument {
  const parts = [...new Set(problems.map((problem) => problem.in))].join(', ');
  return {
    // RFC 9457's own type for a problem its status says all of; `errors` carries the rest.
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: `${problems.length} problem(s) in ${parts}`,
    instance: path,
    request_id: requestId,
    errors: problems,
  };
}
