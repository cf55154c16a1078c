// Errors the lab reports to its user: each names what to do next.
export class LabError extends Error {
  readonly code = 'TABBY_LAB';
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}
