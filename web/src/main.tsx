import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { App } from './App.tsx';

// The token came in the printed URL; the server has set its cookie, so the address bar need not show it.
const url = new URL(location.href);
if (url.searchParams.has('token')) {
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

render(<App />, document.getElementById('app')!);
