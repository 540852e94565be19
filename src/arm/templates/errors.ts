// Template errors in Azure's error shape; the engine maps them to `{"error":{code,message,target,details}}`.
export interface TemplateErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export class TemplateError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly details?: TemplateErrorDetail[],
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** An error raised by evaluation of a language expression, annotated with its path by the caller. */
export class ExpressionError extends Error {
  constructor(message: string, readonly position?: number) {
    super(message);
    this.name = 'ExpressionError';
  }
}
