/** A repository as a webhook names it. */
export interface RepositoryRef {
  /** `owner/name` as GitHub spells it. */
  fullName: string;
  cloneUrl: string;
}
