import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from './api/client';
import { setClient } from './api/api';
import { App, NoAccess } from './app/app';
import './styles.css';

const client = createClient();
const root = createRoot(document.getElementById('root')!);
if (client) {
  setClient(client);
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
} else {
  root.render(<NoAccess />);
}
