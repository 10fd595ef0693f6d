/** Short notices at the bottom of the window: confirmations (with an optional action) and errors. */
export interface Toast {
  id: number;
  kind: 'info' | 'error';
  message: string;
  action?: { label: string; run: () => void };
}

export class Toasts {
  items = $state<Toast[]>([]);
  #next = 1;

  show(message: string, options: { kind?: Toast['kind']; action?: Toast['action']; timeoutMs?: number } = {}): void {
    const toast: Toast = { id: this.#next++, kind: options.kind ?? 'info', message };
    if (options.action) toast.action = options.action;
    this.items = [...this.items.slice(-3), toast];
    setTimeout(() => this.dismiss(toast.id), options.timeoutMs ?? (toast.kind === 'error' ? 8000 : 5000));
  }

  error(err: unknown): void {
    this.show(err instanceof Error ? err.message : String(err), { kind: 'error' });
  }

  /** Confirmations belong to the view they were shown in; errors stay until they time out. */
  clearInfo(): void {
    this.items = this.items.filter((t) => t.kind === 'error');
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}
