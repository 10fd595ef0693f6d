import { mount } from 'svelte';
import App from './App.svelte';
import { connectBridge } from './lib/api/index.js';
import { AppState } from './state/app.svelte.js';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
mount(App, { target, props: { app: new AppState(connectBridge()) } });
