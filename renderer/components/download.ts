/** Hands text to the browser as a file download (a Blob URL, so nothing goes back to the core). */
export function downloadText(fileName: string, text: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once it starts; the URL can go a moment later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
