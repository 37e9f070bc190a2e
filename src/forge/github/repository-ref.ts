/** A repository as a webhook names it. */
export interface RepositoryRef {
  /** `owner/name` as GitHub spells it. */
  fullName: string;
  cloneUrl: string;
  /** Pushes: the repository's default branch (where schedules without a `branch` run). */
  defaultBranch?: string;
}
