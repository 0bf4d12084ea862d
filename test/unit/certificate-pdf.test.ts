import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { renderCertificatePdf } from '../../src/modules/certificates/certificate.pdf.js';
import { pdfText } from '../helpers/quizzes.js';

const content = (studentName: string, courseTitle = 'Logic 101') => ({
  studentName,
  courseTitle,
  issuedAt: new Date('2026-12-07T00:00:00Z'),
  code: '7K2M-Q9XD-AB3C-DE4F-GH5J',
  verifyUrl: 'https://api.eduflow.test/certificates/7K2M-Q9XD-AB3C-DE4F-GH5J.pdf',
});

describe(renderCertificatePdf.name, () => {
  it('prints names outside WinAnsi as closely as it can and keeps them exactly in the metadata', async () => {
    const name = 'Zoë Łukasiewicz 李';
    const pdf = await renderCertificatePdf(content(name, 'Mathématiques: 数学 🎓'));
    const text = await pdfText(pdf);
    // ë is WinAnsi; Ł has no decomposition and takes its base letter; 李 and 🎓 have no glyph.
    expect(text).toContain('Zoë Lukasiewicz ?');
    expect(text).toContain('Mathématiques: ?? ?');
    expect(text).toContain('7K2M-Q9XD-AB3C-DE4F-GH5J');
    const doc = await PDFDocument.load(pdf);
    expect(doc.getSubject()).toContain(name);
    expect(doc.getTitle()).toContain('数学 🎓');
  });

  it('renders a name with no printable character at all, and accents it can strip', async () => {
    const text = await pdfText(await renderCertificatePdf(content('李小龍 Nguyễn Thị Ă')));
    expect(text).toContain('??? Nguyen Thi A');
  });
});
