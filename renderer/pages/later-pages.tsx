export { MonitoringPage } from './monitoring/monitoring-page';
