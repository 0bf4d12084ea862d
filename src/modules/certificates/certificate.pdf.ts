import { PDFDocument, rgb, StandardFonts, type PDFFont } from 'pdf-lib';

export interface CertificateContent {
  studentName: string;
  courseTitle: string;
  issuedAt: Date;
  code: string;
  verifyUrl: string;
}

/**
 * The certificate as a one-page landscape A4 PDF (pdf-lib, standard fonts: no font files to
 * ship, a few KiB per document). The text is also set as the document's metadata, so a
 * reader can find name, course and code without parsing the page.
 */
export async function renderCertificatePdf(c: CertificateContent): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const fixedDate = c.issuedAt;
  doc.setTitle(`Certificate of completion: ${c.courseTitle}`);
  doc.setSubject(`${c.studentName} completed ${c.courseTitle}. Certificate ${c.code}.`);
  doc.setAuthor('EduFlow');
  doc.setCreator('EduFlow');
  doc.setProducer('EduFlow');
  doc.setCreationDate(fixedDate);
  doc.setModificationDate(fixedDate);
  const page = doc.addPage([842, 595]);
  const serif = await doc.embedFont(StandardFonts.TimesRoman);
  const bold = await doc.embedFont(StandardFonts.TimesRomanBold);
  const sans = await doc.embedFont(StandardFonts.Helvetica);
  const { width } = page.getSize();
  page.drawRectangle({ x: 24, y: 24, width: 794, height: 547, borderColor: rgb(0.2, 0.3, 0.5), borderWidth: 3 });
  const centered = (text: string, y: number, font: PDFFont, size: number) => {
    const safe = encodable(text, font);
    const fitted = Math.min(size, (size * 720) / Math.max(1, font.widthOfTextAtSize(safe, size)));
    const w = font.widthOfTextAtSize(safe, fitted);
    page.drawText(safe, { x: (width - w) / 2, y, size: fitted, font, color: rgb(0.1, 0.1, 0.2) });
  };
  centered('Certificate of Completion', 470, bold, 36);
  centered('This certifies that', 410, serif, 18);
  centered(c.studentName, 360, bold, 32);
  centered('has completed the course', 315, serif, 18);
  centered(c.courseTitle, 270, bold, 26);
  centered(`Issued ${c.issuedAt.toISOString().slice(0, 10)}`, 200, serif, 16);
  centered(`Certificate code: ${c.code}`, 120, sans, 12);
  centered(`Verify at ${c.verifyUrl}`, 100, sans, 10);
  return Buffer.from(await doc.save());
}

/**
 * The standard fonts cover WinAnsi (Latin-1 and a few more), and a font for every script would
 * be megabytes per document (CJK alone). So the page prints what WinAnsi can: a character
 * loses its accents where that makes it printable (ă → a), a few Latin letters without a
 * decomposition take their base letter (Ł → L), anything else becomes '?'. The name is kept
 * exactly as given where it is the record: the certificate row, verifyCertificate, and the
 * PDF's metadata (UTF-16). Rendering never fails on a name. See docs/decisions/certificate-pdf.md.
 */
function encodable(text: string, font: PDFFont): string {
  let out = '';
  for (const ch of text) {
    const candidates = [ch, ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''), BASE_LETTERS[ch] ?? ''];
    out += candidates.find((c) => c.length > 0 && canEncode(font, c)) ?? '?';
  }
  return out;
}

/** Latin letters with a stroke or other mark that Unicode does not decompose. */
const BASE_LETTERS: Readonly<Record<string, string>> = {
  Ł: 'L',
  ł: 'l',
  Đ: 'D',
  đ: 'd',
  Ħ: 'H',
  ħ: 'h',
  ı: 'i',
  Ŧ: 'T',
  ŧ: 't',
  Ŋ: 'N',
  ŋ: 'n',
  Ɨ: 'I',
  ɨ: 'i',
  Ƶ: 'Z',
  ƶ: 'z',
};

function canEncode(font: PDFFont, text: string): boolean {
  try {
    font.encodeText(text);
    return true;
  } catch {
    return false;
  }
}
