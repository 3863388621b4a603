import { createOrgModal } from '../blocks/modals.js';
import { type ActionCtx, openModal } from './types.js';

export async function homeCreateOrg(a: ActionCtx) {
  await openModal(a, createOrgModal());
}
