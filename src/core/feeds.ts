// Public priority feeds (issue 16 item 6): the CISA KEV catalog and FIRST's
// EPSS scores, imported from files the operator downloaded (never fetched at
// run time). The FeedStore port keeps one current version of each feed and
// answers, per CVE, what the read path joins to findings.

export type FeedName = 'kev' | 'epss';

export const FEED_NAMES: readonly FeedName[] = ['kev', 'epss'];

/** One KEV catalog entry, as kept (the rest of CISA's record is not needed). */
export interface KevEntry {
  cve: string;
  /** YYYY-MM-DD */
  dateAdded: string;
  /** YYYY-MM-DD: CISA's remediation due date for federal agencies. */
  dueDate: string;
  /** knownRansomwareCampaignUse is "Known". */
  ransomware: boolean;
  vendorProject: string;
  product: string;
  vulnerabilityName: string;
}

/** One EPSS row: probability of exploitation in 30 days and its percentile. */
export interface EpssScore {
  cve: string;
  epss: number;
  percentile: number;
}

/** What an importer knows about the file besides its rows. */
export interface FeedSource {
  /** The feed's own version, e.g. "2025.08.25/2025-08-25T17:04:19.9796Z". */
  version: string;
  /** YYYY-MM-DD: the day the feed was released or scored. */
  date: string;
  /**
   * Hex SHA-256 of the file's bytes (as read, before gunzip). Called once the
   * rows are consumed: a streamed file's digest is complete only then.
   */
  sha256(): string;
}

export interface FeedStatus {
  name: FeedName;
  version: string;
  date: string;
  count: number;
  sha256: string;
  /** ISO time of the import. */
  importedAt: string;
}

export interface CvePriority {
  kev: { dateAdded: string; dueDate: string; ransomware: boolean } | null;
  epss: number | null;
  epssPercentile: number | null;
}

/**
 * The feeds, one current version each. An import replaces the whole feed at
 * once: readers see the old version until the new one is completely in, and
 * an import that fails (a bad row thrown by the rows iterable, a store error)
 * leaves the old one. Re-importing the version already current is allowed
 * and gives the same state. Rows must name distinct CVEs.
 */
export interface FeedStore {
  importKev(
    entries: AsyncIterable<KevEntry> | Iterable<KevEntry>,
    source: FeedSource,
  ): Promise<FeedStatus>;
  importEpss(
    rows: AsyncIterable<EpssScore> | Iterable<EpssScore>,
    source: FeedSource,
  ): Promise<FeedStatus>;
  /** The imported feeds, in FEED_NAMES order; a feed never imported is absent. */
  status(): Promise<FeedStatus[]>;
  /** Every CVE asked for is a key of the map (null fields when a feed has none). */
  lookup(cves: readonly string[]): Promise<Map<string, CvePriority>>;
}

/** The CVE id shape CISA's KEV schema allows (the number has 4 to 19 digits). */
export const CVE_ID = /^CVE-[0-9]{4}-[0-9]{4,19}$/;
