import DataLoader from 'dataloader';
import type { Db } from '../../db/client.js';
import { rowLoader } from '../../graphql/loader-utils.js';
import {
  certificatesByIds,
  certificatesOfPairs,
  certificatesOfStudents,
  type CertificateInfo,
} from './certificate.repository.js';

/** Rows without visibility (and without their PDF): the certificate service decides who sees what. */
export function createCertificateLoaders(db: Db) {
  return {
    byId: rowLoader<CertificateInfo>(
      (ids) => certificatesByIds(db, ids),
      (c) => c.id,
    ),
    /** Keys "courseId|studentId". */
    byPair: new DataLoader<string, CertificateInfo | null>(async (keys) => {
      const found = await certificatesOfPairs(
        db,
        keys.map((k) => {
          const [courseId, studentId] = k.split('|') as [string, string];
          return { courseId, studentId };
        }),
      );
      return keys.map((k) => found.get(k) ?? null);
    }),
    byStudent: new DataLoader<string, CertificateInfo[]>(async (ids) => {
      const found = await certificatesOfStudents(db, [...ids]);
      return ids.map((id) => found.get(id) ?? []);
    }),
  };
}
